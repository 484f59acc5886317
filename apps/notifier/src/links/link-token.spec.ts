import { signLink, verifyLink } from './link-token.js';

const secret = 'a-secret-of-at-least-32-characters-long';
const id = '0b0e6a8e-6a43-4a55-9a0c-2f4f3f0c9d11';

describe('signed link tokens', () => {
  it('verifies its own tokens', () => {
    expect(verifyLink(secret, signLink(secret, id))).toBe(id);
  });

  it('refuses a token signed with another secret, an altered id or signature, and junk', () => {
    const token = signLink(secret, id);
    expect(verifyLink('another-secret-of-at-least-32-characters', token)).toBeNull();
    expect(verifyLink(secret, token.replace(id, '1b0e6a8e-6a43-4a55-9a0c-2f4f3f0c9d11'))).toBeNull();
    expect(verifyLink(secret, `${token.slice(0, -2)}xx`)).toBeNull();
    expect(verifyLink(secret, id)).toBeNull();
    expect(verifyLink(secret, 'not-a-token.at-all')).toBeNull();
  });
});
