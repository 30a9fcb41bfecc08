// A Kafka Metadata request in plain Node, just enough to answer two questions quickly: "does the
// broker serve requests yet?" and "do the demo topics exist?". Launching a JVM tool (TopicCommand)
// for every poll would cost 1-2 s of CPU each time; this costs one TCP round trip.
//
// Wire format (https://kafka.apache.org/protocol), Metadata = API key 3, version 4. Version 4 is
// the oldest one Kafka 4.x still serves (KIP-896 removed 0-3) and it is not yet a "flexible"
// version, so every field has a fixed-width or int16-length-prefixed encoding:
//   request:  size int32 | api_key int16 | api_version int16 | correlation_id int32 | client_id string
//             | topics array (int32 count, -1 = all) of string | allow_auto_topic_creation bool
//   response: size int32 | correlation_id int32 | throttle_time_ms int32
//             | brokers [node_id int32, host string, port int32, rack nullable string]
//             | cluster_id nullable string | controller_id int32
//             | topics [error_code int16, name string, is_internal bool,
//                       partitions [error_code int16, partition_index int32, leader_id int32,
//                                   replica_nodes [int32], isr_nodes [int32]]]

import net from 'node:net';

const METADATA_API_KEY = 3;
const METADATA_VERSION = 4;
const CORRELATION_ID = 1;

function encodeString(value) {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function int16(value) {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

function int32(value) {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

export function encodeMetadataRequest(topics) {
  const body = Buffer.concat([
    int16(METADATA_API_KEY),
    int16(METADATA_VERSION),
    int32(CORRELATION_ID),
    encodeString('nestjs-kafka-tracing-stack'),
    int32(topics.length),
    ...topics.map(encodeString),
    Buffer.from([0]), // allow_auto_topic_creation = false: asking must not create anything
  ]);
  return Buffer.concat([int32(body.length), body]);
}

/** Sequential reader over a response buffer. */
class Reader {
  offset = 0;
  constructor(buffer) {
    this.buffer = buffer;
  }
  int8() {
    return this.buffer.readInt8((this.offset += 1) - 1);
  }
  int16() {
    return this.buffer.readInt16BE((this.offset += 2) - 2);
  }
  int32() {
    return this.buffer.readInt32BE((this.offset += 4) - 4);
  }
  string() {
    const length = this.int16();
    if (length < 0) return null;
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  array(readItem) {
    const count = this.int32();
    return Array.from({ length: Math.max(count, 0) }, () => readItem());
  }
}

/** Decodes a Metadata v4 response (without its size prefix). */
export function decodeMetadataResponse(buffer) {
  const reader = new Reader(buffer);
  const correlationId = reader.int32();
  if (correlationId !== CORRELATION_ID) throw new Error(`unexpected correlation id ${correlationId}`);
  reader.int32(); // throttle_time_ms
  const brokers = reader.array(() => ({
    nodeId: reader.int32(),
    host: reader.string(),
    port: reader.int32(),
    rack: reader.string(),
  }));
  const clusterId = reader.string();
  reader.int32(); // controller_id
  const topics = reader.array(() => ({
    errorCode: reader.int16(),
    name: reader.string(),
    isInternal: reader.int8() !== 0,
    partitions: reader.array(() => ({
      errorCode: reader.int16(),
      index: reader.int32(),
      leader: reader.int32(),
      replicas: reader.array(() => reader.int32()),
      isr: reader.array(() => reader.int32()),
    })),
  }));
  return { brokers, clusterId, topics };
}

/**
 * Sends one Metadata request for `topics` and resolves with the decoded answer. Rejects if the
 * connection fails, closes early (e.g. the broker does not serve this version) or times out.
 */
export function fetchMetadata({ host = '127.0.0.1', port, topics, timeoutMs = 3000 }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks = [];
    let received = 0;
    const fail = (error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('no answer to the metadata request')));
    socket.once('error', fail);
    socket.once('close', () => reject(new Error('connection closed before a complete answer')));
    socket.once('connect', () => socket.write(encodeMetadataRequest(topics)));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      const buffer = Buffer.concat(chunks, received);
      if (buffer.length < 4 || buffer.length < 4 + buffer.readInt32BE(0)) return;
      socket.destroy();
      try {
        resolve(decodeMetadataResponse(buffer.subarray(4, 4 + buffer.readInt32BE(0))));
      } catch (error) {
        reject(error);
      }
    });
  });
}
