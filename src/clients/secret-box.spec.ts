import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox', () => {
  const current = randomBytes(32);
  const old = randomBytes(32);

  it('opens what it sealed, and the ciphertext holds neither the secret nor its base64', () => {
    const box = new SecretBox(current);
    const secret = 'whsec_' + randomBytes(32).toString('base64');
    const sealed = box.seal(secret, 'cli_a/sec_1');
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, 'cli_a/sec_1')).toBe(secret);
    expect(box.seal(secret, 'cli_a/sec_1')).not.toBe(sealed);
  });

  it('refuses a ciphertext moved to another row (associated data) or tampered with', () => {
    const box = new SecretBox(current);
    const sealed = box.seal('whsec_abc', 'cli_a/sec_1');
    expect(() => box.open(sealed, 'cli_b/sec_1')).toThrow(SecretBoxError);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => box.open(tampered, 'cli_a/sec_1')).toThrow(SecretBoxError);
  });

  it('opens with a previous key, knows which ciphertexts need resealing, and names an unknown key', () => {
    const before = new SecretBox(old).seal('whsec_old', 'x');
    const rotated = new SecretBox(current, [old]);
    expect(rotated.open(before, 'x')).toBe('whsec_old');
    expect(rotated.isStale(before)).toBe(true);
    expect(rotated.isStale(rotated.seal('whsec_new', 'x'))).toBe(false);
    expect(() => new SecretBox(current).open(before, 'x')).toThrow(/RELAY_ENCRYPTION_PREVIOUS_KEYS/);
  });

  it('cannot seal without a key', () => {
    const box = new SecretBox(null);
    expect(box.canSeal).toBe(false);
    expect(() => box.seal('s', 'x')).toThrow(/RELAY_ENCRYPTION_KEY/);
  });
});
