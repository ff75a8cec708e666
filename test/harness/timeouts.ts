// Integration and e2e tests drive real processes; each wait inside them has its
// own bound, so the per-test limit only catches a hang.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);
