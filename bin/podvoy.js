#!/usr/bin/env node
// podman's listings start first: they answer while Node.js loads the CLI.
import { startEarlyListings } from '../dist/bin/early-listings.js';
import { setFlagsFromString } from 'node:v8';

startEarlyListings(process.argv.slice(2));
// undici parses HTTP in WebAssembly. V8 recompiles its hot functions with its optimising
// compiler on a background thread, and Node.js waits for that work before it exits: about
// 80 ms at the end of every command that spoke to an Envoy. V8's baseline compiler (Liftoff)
// serves a command's few requests as well; the library, in a long-lived process, is left as is.
setFlagsFromString('--liftoff-only');
const { main } = await import('../dist/bin/podvoy.js');
await main();
