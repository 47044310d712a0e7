import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { DigestFormatError } from '../ingestion/digest.types';
import { QuerySyntaxError } from '../matching/engine';

/** Bad input found by the domain (a malformed page, an invalid query) is the client's error: 400. */
@Catch(DigestFormatError, QuerySyntaxError)
export class DomainErrorsFilter implements ExceptionFilter {
  catch(err: Error, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(HttpStatus.BAD_REQUEST).json({ statusCode: 400, error: 'Bad Request', message: err.message });
  }
}
