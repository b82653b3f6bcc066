#!/usr/bin/env node
import { main } from '../dist/bin/podvoy.js';

await main();
