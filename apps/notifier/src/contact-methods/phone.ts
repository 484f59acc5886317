import { parsePhoneNumberWithError, ParseError, type CountryCode } from 'libphonenumber-js/max';

const REASONS: Record<string, string> = {
  INVALID_COUNTRY: 'it has no country code: write it as +<country code><number>, or pass "country" (e.g. "US")',
  NOT_A_NUMBER: 'it is not a phone number',
  TOO_SHORT: 'it is too short',
  TOO_LONG: 'it is too long',
  INVALID_LENGTH: 'it has the wrong number of digits',
};

/** A phone number as typed, in E.164 (+14155552671), or why it is not one. */
export function normalizePhone(input: string, country?: string): { e164: string } | { error: string } {
  try {
    const parsed = parsePhoneNumberWithError(input, country ? { defaultCountry: country.toUpperCase() as CountryCode } : undefined);
    if (!parsed.isValid())
      return { error: `"${input}" is not a valid phone number${parsed.country ? ` for ${parsed.country}` : ''}: check the digits and the country code` };
    return { e164: parsed.number };
  } catch (err) {
    const reason = err instanceof ParseError ? (REASONS[err.message] ?? err.message) : 'it cannot be read';
    return { error: `"${input}" is not a valid phone number: ${reason}` };
  }
}
