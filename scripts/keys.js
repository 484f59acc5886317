#!/usr/bin/env node
// `npm run keys [kid]`: prints a new token key pair as the two variables to set. Give
// AUTH_SIGNING_KEY to oncall only (the others refuse to start with it) and AUTH_PUBLIC_KEYS to every
// service. To rotate: add the new public key to AUTH_PUBLIC_KEYS everywhere ({"keys": [old, new]}),
// then give oncall the new AUTH_SIGNING_KEY, and drop the old public key once its tokens have expired.
import { newSigningKeys } from './signing-keys.js';

const { signingKey, publicKeys } = newSigningKeys(process.argv[2]);
process.stdout.write(`AUTH_SIGNING_KEY='${JSON.stringify(signingKey)}'\nAUTH_PUBLIC_KEYS='${JSON.stringify(publicKeys)}'\n`);
