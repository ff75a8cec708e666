import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import {
  describeError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  statusCode,
  statusReason,
} from '../../../lib/errors.ts';

function apiError(code: number, reason: string, message = 'msg'): ApiException<string> {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  return new ApiException(code, 'Unsuccessful HTTP Request', body, {});
}

describe('errors', () => {
  it('reads the code from ApiException, Watch errors and Status objects', () => {
    expect(statusCode(apiError(404, 'NotFound'))).toBe(404);
    expect(statusCode(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(410);
    expect(statusCode({ kind: 'Status', code: 410, reason: 'Expired' })).toBe(410);
    expect(statusCode(new Error('plain'))).toBeUndefined();
    expect(statusCode(undefined)).toBeUndefined();
  });

  it('classifies the codes controllers care about', () => {
    expect(isNotFound(apiError(404, 'NotFound'))).toBe(true);
    expect(isGone({ kind: 'Status', code: 410, reason: 'Expired' })).toBe(true);
    expect(isConflict(apiError(409, 'Conflict'))).toBe(true);
    expect(isConflict(apiError(409, 'AlreadyExists'))).toBe(false);
    expect(isAlreadyExists(apiError(409, 'AlreadyExists'))).toBe(true);
    expect(statusReason(apiError(409, 'Conflict'))).toBe('Conflict');
  });

  it('tolerates bodies that are not JSON', () => {
    const err = new ApiException(500, 'boom', '<html>', {});
    expect(statusReason(err)).toBeUndefined();
    expect(describeError(err)).toContain('500');
  });

  it('describes errors briefly', () => {
    expect(describeError(apiError(409, 'Conflict', 'the object has been modified'))).toBe(
      '409 Conflict: the object has been modified',
    );
    expect(describeError('text')).toBe('text');
  });
});
