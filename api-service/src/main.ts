import { closeOnShutdownSignal, createApp } from '@demo/common/app';
import type { ServiceEnvironment } from '@demo/common/config';
import { ConfigService } from '@nestjs/config';
import { AppModule } from './app.module.js';
import { configureHttp } from './http/configure-http.js';

const app = await createApp(AppModule);
configureHttp(app);
const config = app.get<ConfigService<ServiceEnvironment, true>>(ConfigService);
await app.listen(config.get('PORT', { infer: true }), config.get('HOST', { infer: true }));
closeOnShutdownSignal(app);
