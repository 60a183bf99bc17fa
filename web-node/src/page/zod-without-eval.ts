import { z } from "zod";

// The edge serves this page under a CSP without 'unsafe-eval'. zod compiles
// object parsers with `new Function` unless told not to, and merely probing for
// it makes the browser report a violation; parsing speed is irrelevant here.
z.config({ jitless: true });
