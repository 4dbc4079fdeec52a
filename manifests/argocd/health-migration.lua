-- Argo CD health check for schemagate.io/Migration. Register it under
-- resource.customizations.health.schemagate.io_Migration in argocd-cm.
-- Healthy: the database is at the target (or past it: a rollback).
-- Progressing: a run is due, waiting, going, or retrying after a failure
-- (a retry may still succeed, so a sync keeps waiting). Degraded: Stalled,
-- nothing changes without a fix. Suspended: spec.suspend.
-- tests/packaging/argocd_health_test.sh runs it under Lua 5.1 on fixtures.
local hs = {status = "Progressing", message = "Waiting for the operator"}
if obj.status == nil or obj.status.observedGeneration == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "The operator has not seen the latest spec yet"
  return hs
end
local ready, stalled, reconciling = nil, nil, nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then ready = c end
    if c.type == "Stalled" then stalled = c end
    if c.type == "Reconciling" then reconciling = c end
  end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = (stalled.reason or "Stalled") .. ": " .. (stalled.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  if ready.reason == "DatabaseAhead" then
    hs.message = "DatabaseAhead: " .. (ready.message or "")
  else
    hs.message = "Database at " .. (obj.status.currentRevision or "?")
  end
  return hs
end
if ready ~= nil and ready.reason == "Suspended" then
  hs.status = "Suspended"
  hs.message = "Suspended: " .. (ready.message or "")
  return hs
end
-- Not ready: say why, from Ready, else from Reconciling (a Migration
-- waiting for a run slot has no Ready condition yet).
local why = ready or reconciling
if why ~= nil then
  hs.message = (why.reason or "") .. ": " .. (why.message or "")
  if obj.status.nextRetryTime ~= nil then
    hs.message = hs.message .. " (retry at " .. obj.status.nextRetryTime .. ")"
  end
end
return hs
