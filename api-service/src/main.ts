import { closeOnShutdownSignal, createApp } from '@demo/common/app';
import type { ServiceEnvironment } from '@demo/common/config';
import { ConfigService } from '@nestjs/config';
import { AppModule } from './app.module.js';
import { configureHttp } from './http.js';

const app = await createApp(AppModule);
configureHttp(app);
await app.listen(app.get<ConfigService<ServiceEnvironment, true>>(ConfigService).get('PORT', { infer: true }));
closeOnShutdownSignal(app);
