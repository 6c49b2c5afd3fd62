/**
 * Closes what a test opened even when the test fails: a server, relay or process left open keeps the Jest worker alive
 * after the run, and an app closed late still writes into a database that is gone. Closers run after each test, last
 * registered first; every closer runs even if an earlier one throws.
 */
export function closeAfterEach(): (close: () => unknown) => void {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (close) => void closers.push(close);
}
