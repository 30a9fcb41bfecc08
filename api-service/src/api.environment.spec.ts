import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateEnvironment } from '@demo/common/config';
import { ApiEnvironment } from './api.environment.js';

const validate = validateEnvironment(ApiEnvironment);

describe('ApiEnvironment', () => {
  it('takes CLIENT_TRACEPARENT unset, `parent` or `link`', () => {
    for (const value of [undefined, 'parent', 'link']) assert.equal(validate({ CLIENT_TRACEPARENT: value }).CLIENT_TRACEPARENT, value);
  });

  it('refuses any other CLIENT_TRACEPARENT at start-up, naming the settings', () => {
    assert.throws(() => validate({ CLIENT_TRACEPARENT: 'child' }), /CLIENT_TRACEPARENT: CLIENT_TRACEPARENT must be one of the following values: parent, link/);
  });
});
