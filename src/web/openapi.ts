import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI for the JSON routes: the UI at /api/docs, the document at /api/docs-json. Pages are excluded. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Paperboy API')
    .setDescription('Subscribe to paper alerts (double opt-in), manage a subscription, and ingest digests.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The manage token from the "Manage your alerts" link of an email' }, 'manage')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An admin API token (created in the console at /admin/tokens; shown once)' }, 'admin')
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'api/docs-json', raw: ['json'] });
}
