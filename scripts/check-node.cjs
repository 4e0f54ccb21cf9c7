// Runs before `npm start` and `npm test` (prestart/pretest), on whatever Node the user has, so it is
// plain CommonJS with nothing newer than ES2015: an older Node stops here with the version it needs.
'use strict';
const path = require('node:path');
const wanted = require(path.join(__dirname, '..', 'package.json')).engines.node; // e.g. ">=24"
const needed = Number(/\d+/.exec(wanted)[0]);
const actual = Number(process.versions.node.split('.')[0]);
if (actual < needed) {
  console.error(
    'Omni Campaigns needs Node ' +
      needed +
      ' or newer (package.json engines: ' +
      wanted +
      '); this is Node ' +
      process.versions.node +
      '.\n' +
      'Get the pinned Node ' +
      needed +
      ' into .tools/ and use it in this shell:\n' +
      '  export PATH="$(scripts/ensure-node.sh):$PATH" && npm ci\n' +
      'or install Node ' +
      needed +
      ' LTS from https://nodejs.org.',
  );
  process.exit(1);
}
