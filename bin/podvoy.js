#!/usr/bin/env node
// podman's listings start first: they answer while Node.js loads the CLI.
import { startEarlyListings } from '../dist/bin/early-listings.js';

startEarlyListings(process.argv.slice(2));
const { main } = await import('../dist/bin/podvoy.js');
await main();
