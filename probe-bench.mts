import { benchDelivery } from './bench/delivery.js';
for (let i = 0; i < 2; i += 1) console.log((await benchDelivery())[0]);
process.exit(0);
