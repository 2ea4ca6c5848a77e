import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/errors';
import { conflict, hasErrorCode, notFound } from '../src/errors';

describe('error codes', () => {
  it('recognises a Tandem error by its code, and nothing else that merely has one', () => {
    expect(hasErrorCode(conflict('change_decided', 'Decided meanwhile.'), 'change_decided')).toBe(true);
    expect(hasErrorCode(notFound('change_not_found', 'No such change.'), 'change_decided')).toBe(false);
    expect(hasErrorCode({ code: 'change_decided' }, 'change_decided')).toBe(false);
    expect(hasErrorCode(new ApiError(404, 'not_found', 'No such path.'), 'change_not_found')).toBe(false);
  });

  it('are a closed set: a code nobody defined does not typecheck', () => {
    // @ts-expect-error 'change_decidd' is not an ErrorCode
    expect(hasErrorCode(conflict('change_decidd', 'typo'), 'change_decided')).toBe(false);
    // @ts-expect-error 'nope' is not an ApiErrorCode
    expect(new ApiError(400, 'nope', 'typo').code).toBe('nope');
  });
});
