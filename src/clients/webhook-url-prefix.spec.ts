import { normalizedPrefix, prefixProblem, underPrefix } from './webhook-url-prefix';

describe('underPrefix', () => {
  const prefix = 'https://lms.example.edu/hooks/';

  it.each([
    'https://lms.example.edu/hooks/',
    'https://lms.example.edu/hooks/review?x=1',
    'https://LMS.example.edu:443/hooks/a/b',
  ])('covers %s', (url) => expect(underPrefix(url, prefix)).toBe(true));

  it.each([
    'https://lms.example.edu.evil.test/hooks/',
    'https://lms.example.edu/hooks-evil',
    'https://lms.example.edu/hooks',
    'https://localhost/hooks/',
    'http://lms.example.edu/hooks/',
    'https://lms.example.edu:8443/hooks/',
    'https://lms.example.edu@evil.test/hooks/',
    'https://user:pw@lms.example.edu/hooks/',
    'https://lms.example.edu/other/../hooks-evil/',
    'not a url',
  ])('does not cover %s', (url) => expect(underPrefix(url, prefix)).toBe(false));

  it('without a trailing slash covers the path itself and below, not a longer segment', () => {
    expect(underPrefix('https://a.test/hooks', 'https://a.test/hooks')).toBe(true);
    expect(underPrefix('https://a.test/hooks/x', 'https://a.test/hooks')).toBe(true);
    expect(underPrefix('https://a.test/hooksx', 'https://a.test/hooks')).toBe(false);
  });

  it('a path that climbs out with dot segments is compared after the parser resolves it', () => {
    expect(underPrefix('https://lms.example.edu/hooks/../admin', prefix)).toBe(false);
  });
});

describe('prefixProblem', () => {
  it('accepts http(s) URLs and refuses the rest with a reason', () => {
    expect(prefixProblem('https://lms.example.edu/hooks/')).toBeNull();
    expect(prefixProblem('ftp://x.test/')).toMatch(/not http/);
    expect(prefixProblem('https://x.test/?a=1')).toMatch(/query/);
    expect(prefixProblem('https://u:p@x.test/')).toMatch(/credentials/);
    expect(prefixProblem('/relative')).toMatch(/absolute/);
    expect(normalizedPrefix('HTTPS://X.test:443/a')).toBe('https://x.test/a');
  });
});
