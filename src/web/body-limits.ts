import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';

/** Public endpoints (forms, one-click unsubscribe, the subscriptions API) and their body limit. */
export const PUBLIC_FORM_PATHS = ['/subscribe', '/confirm', '/manage', '/unsubscribe', '/api/subscriptions', '/api/preview', '/api/confirmations', '/api/preferences'];
export const PUBLIC_BODY_LIMIT = '16kb';

/** Turns a body-parser failure into a short JSON answer (413 too large, 400 malformed) with no stack. */
function clear(parser: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) =>
    parser(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { status?: number; type?: string };
      const status = e.status === 413 ? 413 : e.status === 415 ? 415 : 400;
      const message =
        status === 413
          ? `The request body is larger than ${PUBLIC_BODY_LIMIT}.`
          : e.type === 'entity.parse.failed'
            ? 'The request body is not valid JSON.'
            : e.type === 'parameters.too.many'
              ? 'Too many form fields.'
              : 'The request body could not be read.';
      res.status(status).json({ statusCode: status, error: status === 413 ? 'Payload Too Large' : 'Bad Request', message });
    });
}

export function publicBodyParsers(): RequestHandler[] {
  return [
    clear(json({ limit: PUBLIC_BODY_LIMIT, strict: true })),
    clear(urlencoded({ limit: PUBLIC_BODY_LIMIT, extended: false, parameterLimit: 50 })),
  ];
}
