import { closeOnShutdownSignal, createApp } from '@demo/common/bootstrap';
import { ConfigService } from '@nestjs/config';
import { AppModule } from './app.module.js';
import { configureHttp } from './http.js';

const app = await createApp(AppModule);
configureHttp(app);
await app.listen(app.get(ConfigService).getOrThrow<number>('PORT'));
closeOnShutdownSignal(app);
