import { admin, authenticated, definePolicy } from '../lib/http/policy.ts';

// Gnocchi's defaults: anyone authenticated reads and writes what their project owns (the queries
// themselves keep each project to its own resources and metrics); archive policies and their rules
// are the operator's.
definePolicy({
  'telemetry:list archive policy': authenticated,
  'telemetry:get archive policy': authenticated,
  'telemetry:create archive policy': admin,
  'telemetry:update archive policy': admin,
  'telemetry:delete archive policy': admin,
  'telemetry:list archive policy rule': authenticated,
  'telemetry:get archive policy rule': authenticated,
  'telemetry:create archive policy rule': admin,
  'telemetry:update archive policy rule': admin,
  'telemetry:delete archive policy rule': admin,
  'telemetry:list metric': authenticated,
  'telemetry:get metric': authenticated,
  'telemetry:create metric': authenticated,
  'telemetry:delete metric': authenticated,
  'telemetry:get measures': authenticated,
  'telemetry:post measures': authenticated,
  'telemetry:list resource type': authenticated,
  'telemetry:get resource type': authenticated,
  'telemetry:list resource': authenticated,
  'telemetry:get resource': authenticated,
  'telemetry:create resource': authenticated,
  'telemetry:update resource': authenticated,
  'telemetry:delete resource': authenticated,
  'telemetry:search resource': authenticated,
  'telemetry:get aggregates': authenticated,
  'telemetry:get status': authenticated,
  'telemetry:prometheus': admin,
});
