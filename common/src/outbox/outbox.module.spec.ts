import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Global, Module, Post } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { NEVER, of } from 'rxjs';
import { DataSource } from 'typeorm';
import { KAFKA_PRODUCER } from '../kafka/event-publisher.js';
import { Outbox } from './outbox.js';
import { OutboxModule } from './outbox.module.js';
import { OutboxTable } from './outbox-table.js';

describe('OutboxModule in a Nest application', () => {
  it('stops its relay after HTTP has closed and before the producer: an event committed by the last request is sent', async () => {
    const happened: string[] = [];
    let requestArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    let finishRequest!: () => void;
    const finish = new Promise<void>((resolve) => (finishRequest = resolve));

    @Controller()
    class StudentsController {
      constructor(private readonly outbox: Outbox) {}

      @Post('students')
      async register() {
        requestArrived();
        await finish;
        await this.outbox.write({ with: 'student AS (SELECT 1)', params: [] }, { topic: 'student', key: 'student-1', payload: {} });
        happened.push('request committed');
      }
    }

    @Global()
    @Module({ providers: [{ provide: DataSource, useValue: { query: async () => [{ outbox_id: '1' }] } }], exports: [DataSource] })
    class FakeDatabaseModule {}

    @Module({
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }), FakeDatabaseModule, OutboxModule.forTopics(['student'])],
      controllers: [StudentsController],
    })
    class AppModule {}

    const producer = {
      status: NEVER,
      connect: async () => {},
      emit: (topic: string) => {
        happened.push(`sent ${topic}`);
        return of(undefined);
      },
      onApplicationShutdown: () => void happened.push('producer closed'),
    };
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(KAFKA_PRODUCER).useValue(producer)
      .overrideProvider(OutboxTable).useValue({ connected: false, markSent: async () => {} })
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');

    const response = fetch(`${await app.getUrl()}/students`, { method: 'POST', headers: { connection: 'close' } });
    await arrived;
    const closed = app.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    finishRequest();
    assert.equal((await response).status, 201);
    await closed;
    assert.deepEqual(happened, ['request committed', 'sent student', 'producer closed']);
  });
});
