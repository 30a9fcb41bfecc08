import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Student } from './student.entity.js';
import { type INestApplication, NotFoundException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { configureHttp } from '../http/configure-http.js';
import type { CreateStudentDto } from './dto/create-student.dto.js';
import { StudentsController } from './students.controller.js';
import { StudentsService } from './students.service.js';

const STORED_ID = '6f1c1a7e-4a52-4c5e-9a55-0c9d2b3f1e11';

/** Records what reaches the service: an invalid request must reach nothing. */
class RecordingStudentsService {
  registered: CreateStudentDto[] = [];
  async register(dto: CreateStudentDto) {
    this.registered.push({ ...dto });
    return { id: STORED_ID, ...dto, createdAt: new Date(), feeCents: null, billedAt: null } as Student;
  }
  async findOne(id: string): Promise<Student> {
    if (id !== STORED_ID) throw new NotFoundException(`Student ${id} not found`);
    // A column the API does not publish, as a table gains them.
    return { id, firstname: 'Ada', lastname: 'Lovelace', createdAt: new Date(), feeCents: 120_000, billedAt: new Date(), internalNote: 'x' } as Student;
  }
}

describe('POST /api/v1/students and GET /api/v1/students/:id', () => {
  let app: INestApplication;
  let url: string;
  const service = new RecordingStudentsService();

  before(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [StudentsController],
      providers: [{ provide: StudentsService, useValue: service }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    configureHttp(app);
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/api/v1/students`;
  });
  after(() => app.close());
  beforeEach(() => {
    service.registered = [];
  });

  const post = (body: string, contentType = 'application/json') =>
    fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

  async function expect400(response: Response, mentions: RegExp) {
    assert.equal(response.status, 400);
    const body = (await response.json()) as { message: string | string[] };
    assert.match([body.message].flat().join(' | '), mentions);
    assert.deepEqual(service.registered, [], 'nothing may be registered from an invalid request');
  }

  it('registers a valid student and answers 201 with it', async () => {
    const response = await post(JSON.stringify({ firstname: ' Ada ', lastname: 'Lovelace' }));
    assert.equal(response.status, 201);
    assert.equal(((await response.json()) as Student).id, STORED_ID);
    assert.deepEqual(service.registered, [{ firstname: 'Ada', lastname: 'Lovelace' }]);
  });

  it('refuses a missing field, naming it', async () => {
    await expect400(await post(JSON.stringify({ firstname: 'Ada' })), /lastname/);
  });

  it('refuses an unknown field', async () => {
    await expect400(await post(JSON.stringify({ firstname: 'Ada', lastname: 'L', admin: true })), /property admin should not exist/);
  });

  it('refuses blank and non-string names', async () => {
    await expect400(await post(JSON.stringify({ firstname: '   ', lastname: 42 })), /firstname should not be empty.*lastname must be a string/);
  });

  it('refuses names over 100 characters', async () => {
    await expect400(await post(JSON.stringify({ firstname: 'A'.repeat(101), lastname: 'L' })), /firstname must be shorter than or equal to 100/);
  });

  it('refuses a body that is not JSON', async () => {
    const response = await post('{"firstname": "Ada",');
    assert.equal(response.status, 400);
    assert.deepEqual(service.registered, []);
  });

  it('refuses a body over 100 kB with 413, before validation', async () => {
    const response = await post(JSON.stringify({ firstname: 'A'.repeat(200_000), lastname: 'L' }));
    assert.equal(response.status, 413);
    assert.deepEqual(service.registered, []);
  });

  it('refuses a body of a content type it does not read', async () => {
    await expect400(await post('{"firstname":"Ada","lastname":"Lovelace"}', 'text/plain'), /firstname/);
  });

  it('takes names that look like SQL as plain data', async () => {
    const response = await post(JSON.stringify({ firstname: "Robert'); DROP TABLE students;--", lastname: 'Tables' }));
    assert.equal(response.status, 201);
    assert.deepEqual(service.registered, [{ firstname: "Robert'); DROP TABLE students;--", lastname: 'Tables' }]);
  });

  it('refuses a NUL character in a name, which Postgres cannot store', async () => {
    await expect400(await post('{"firstname":"Ada\\u0000","lastname":"Lovelace"}'), /firstname must not contain a NUL character/);
  });

  it('refuses a lone surrogate in a name, which is not Unicode text', async () => {
    await expect400(await post('{"firstname":"Ada","lastname":"\\ud800Lovelace"}'), /lastname must be well-formed Unicode/);
  });

  it('refuses a body nested too deeply, before it is converted to a DTO', async () => {
    await expect400(await post(`${'['.repeat(5000)}${']'.repeat(5000)}`), /body is nested too deeply/);
    const deepField = `${'{"x":'.repeat(5000)}1${'}'.repeat(5000)}`;
    await expect400(await post(`{"firstname":"Ada","lastname":"L","extra":${deepField}}`), /body is nested too deeply/);
  });

  it('takes names outside the Basic Multilingual Plane, made of surrogate pairs', async () => {
    const response = await post(JSON.stringify({ firstname: 'Ada 😀', lastname: '𝓛ovelace' }));
    assert.equal(response.status, 201);
    assert.deepEqual(service.registered, [{ firstname: 'Ada 😀', lastname: '𝓛ovelace' }]);
  });

  it('refuses a JSON array', async () => {
    await expect400(await post(JSON.stringify([{ firstname: 'Ada', lastname: 'L' }])), /firstname/);
  });

  it('answers 400 to a malformed id and 404 to an unknown one', async () => {
    assert.equal((await fetch(`${url}/not-a-uuid`)).status, 400);
    assert.equal((await fetch(`${url}/0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10`)).status, 404);
  });

  it('answers a student with the fields of the API, not the columns of the table', async () => {
    const response = await fetch(`${url}/${STORED_ID}`);
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys((await response.json()) as object).sort(), ['billedAt', 'createdAt', 'feeCents', 'firstname', 'id', 'lastname']);
  });
});
