import { runConsumerService } from '@demo/common/bootstrap';
import { AppModule } from './app.module.js';

await runConsumerService(AppModule);
