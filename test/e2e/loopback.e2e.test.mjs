/**
 * Every port the stack opens answers on 127.0.0.1 only: natively each process binds it, in compose
 * each port is published on 127.0.0.1. Probed through the machine's own non-loopback address.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { tcpOpen } from '../../scripts/stack/readiness.mjs';
import { env } from './support.mjs';

const portOf = (url) => Number(new URL(url).port);

const ports = {
  'api-service': portOf(env.apiUrl),
  'billing-consumer': portOf(env.billingUrl),
  'notifier-consumer': portOf(env.notifierUrl),
  kafka: Number(env.kafkaBrokers[0].split(':').at(-1)),
  postgres: portOf(env.databaseUrl),
  'Jaeger UI': portOf(env.jaegerUrl),
  'collector metrics': portOf(env.metricsUrl),
  prometheus: portOf(env.prometheusUrl),
};

const machineAddress = Object.values(networkInterfaces()).flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

describe('what the stack exposes', () => {
  it('answers on 127.0.0.1 and on no other address of the machine', async () => {
    assert.ok(machineAddress, 'this check needs a network interface other than loopback');
    for (const [component, port] of Object.entries(ports)) {
      assert.ok(await tcpOpen(port), `${component} answers on 127.0.0.1:${port}`);
      assert.equal(await tcpOpen(port, machineAddress), false, `${component} answers on ${machineAddress}:${port}`);
    }
  });
});
