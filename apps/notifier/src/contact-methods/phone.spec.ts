import { normalizePhone } from './phone.js';

describe('phone numbers', () => {
  it('stores numbers in E.164 however they are written', () => {
    expect(normalizePhone('+1 (415) 555-2671')).toEqual({ e164: '+14155552671' });
    expect(normalizePhone('0151 12345678', 'DE')).toEqual({ e164: '+4915112345678' });
  });

  it('says what is wrong with a number that is not one', () => {
    expect(normalizePhone('0151 12345678')).toEqual({
      error: '"0151 12345678" is not a valid phone number: it has no country code: write it as +<country code><number>, or pass "country" (e.g. "US")',
    });
    expect(normalizePhone('+1 555')).toEqual({ error: expect.stringContaining('"+1 555" is not a valid phone number') });
    expect(normalizePhone('call me')).toEqual({ error: '"call me" is not a valid phone number: it is not a phone number' });
  });
});
