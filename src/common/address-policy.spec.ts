import { isPublicAddress, refusedDestination } from './address-policy';

const noDns = async () => [];

describe('refusedDestination', () => {
  it.each([
    'http://localhost/hook',
    'http://LOCALHOST./hook',
    'http://api.localhost/hook',
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0.0.0.0/',
    'http://0/',
    'http://[::]/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::7f00:1]/',
    'http://[::127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00::1]/',
    'http://[fd00:ec2::254]/',
    'http://[fe80::1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[64:ff9b:1::a00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[2002:a9fe:a9fe::]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://100.100.100.200/',
    'http://224.0.0.1/',
    'http://[ff02::1]/',
    'http://255.255.255.255/',
    'http://198.51.100.7/',
  ])('refuses %s', async (url) => {
    await expect(refusedDestination(url, noDns)).resolves.toEqual(expect.any(String));
  });

  it.each([
    'https://93.184.215.14/hook',
    'http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/',
    'https://[2002:5db8:d70e::]/',
  ])('allows the public address %s', async (url) => {
    await expect(refusedDestination(url, noDns)).resolves.toBeNull();
  });

  it('refuses a name that resolves to a private address, and allows one that resolves publicly', async () => {
    await expect(
      refusedDestination('https://evil.example/', async () => ['93.184.215.14', '10.1.2.3']),
    ).resolves.toMatch(/10\.1\.2\.3/);
    await expect(refusedDestination('https://good.example/', async () => ['93.184.215.14'])).resolves.toBeNull();
  });

  it('leaves unresolvable names to the connect-time check', async () => {
    await expect(refusedDestination('https://unknown.example/', noDns)).resolves.toBeNull();
  });

  it('classifies garbage as not public', () => {
    expect(isPublicAddress('not-an-ip')).toBe(false);
  });
});
