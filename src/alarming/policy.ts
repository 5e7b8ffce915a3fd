import { authenticated, definePolicy } from '../lib/http/policy.ts';

// Aodh's defaults: anyone authenticated manages their project's alarms (the queries keep each
// project to its own; an admin sees all and may create alarms for another project).
definePolicy({
  'alarming:get alarms': authenticated,
  'alarming:query alarms': authenticated,
  'alarming:create alarm': authenticated,
  'alarming:get alarm': authenticated,
  'alarming:change alarm': authenticated,
  'alarming:delete alarm': authenticated,
  'alarming:get alarm state': authenticated,
  'alarming:change alarm state': authenticated,
  'alarming:alarm history': authenticated,
  'alarming:query alarm history': authenticated,
});
