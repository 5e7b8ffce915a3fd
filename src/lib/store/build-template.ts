// The build's last step (npm run build, and npm ci through prepare): the migrated empty database
// that new embedded databases start from (pglite-template.ts).
import { PGLITE_START_PARAMS } from './db.ts';
import { writeTemplate } from './pglite-template.ts';

process.stdout.write(`database template: ${await writeTemplate(PGLITE_START_PARAMS)}\n`);
process.exit(0);
