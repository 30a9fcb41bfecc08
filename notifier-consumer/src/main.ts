import { closeOnShutdownSignal, createApp, startMicroservices } from '@demo/common/app';
import type { ConsumerEnvironment, ServiceEnvironment } from '@demo/common/config';
import { KafkaHealthIndicator } from '@demo/common/health';
import { kafkaConsumerOptions } from '@demo/common/kafka';
import { ConfigService } from '@nestjs/config';
import { AppModule } from './app.module.js';

// A Kafka consumer (the `@EventPattern` handlers) with HTTP for the health endpoints. HTTP listens
// first: while Kafka does not answer, the service is up and reports not ready.
const app = await createApp(AppModule);
const config = app.get<ConfigService<ServiceEnvironment & ConsumerEnvironment, true>>(ConfigService);
// Every billed student is notified, even one billed before the notifier's first start. A new
// consumer of a topic with a history chooses: fromBeginning: false starts at its end.
const consumer = app.connectMicroservice(kafkaConsumerOptions(config, { fromBeginning: true }), { inheritAppConfig: true });
app.get(KafkaHealthIndicator).watch('consumer', consumer.status);
await app.listen(config.get('PORT', { infer: true }), config.get('HOST', { infer: true }));
closeOnShutdownSignal(app);
await startMicroservices(app);
