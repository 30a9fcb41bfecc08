import { closeOnShutdownSignal, createApp, startMicroservices } from '@demo/common/app';
import type { ServiceEnvironment } from '@demo/common/config';
import { KafkaHealthIndicator } from '@demo/common/health';
import { kafkaConsumerOptions } from '@demo/common/kafka';
import { ConfigService } from '@nestjs/config';
import { AppModule } from './app.module.js';

// A Kafka consumer (the `@EventPattern` handlers) with HTTP for the health endpoints. HTTP listens
// first: while Kafka does not answer, the service is up and reports not ready.
const app = await createApp(AppModule);
const consumer = app.connectMicroservice(kafkaConsumerOptions(app.get(ConfigService)), { inheritAppConfig: true });
app.get(KafkaHealthIndicator).watch('consumer', consumer.status);
await app.listen(app.get<ConfigService<ServiceEnvironment, true>>(ConfigService).get('PORT', { infer: true }));
closeOnShutdownSignal(app);
await startMicroservices(app);
