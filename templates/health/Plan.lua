-- Plan: Healthy whenever the plan can run, whatever its last run did. The
-- outcome of a run is the Migration's health: a Plan that reported a failed
-- or canceled run as Degraded or Suspended would gate the very Migration that
-- retries it (Argo CD waits on a wave until it is Healthy).
local on, blocker, blockers = conditions(obj)
local runs = tally(obj.status and obj.status.migration and obj.status.migration.vms)
if stale(obj) then
  if on["Succeeded"] then
    return say("Degraded", "Succeeded plans are never reconciled again: generation " .. obj.metadata.generation ..
      " will not be applied (observed " .. (obj.status.observedGeneration or 0) .. "); put new VMs or options in a new plan")
  end
  return say("Progressing", "Waiting for the controller to observe generation " .. obj.metadata.generation)
end
local archived = obj.spec ~= nil and obj.spec.archived == true
if archived and on["Archived"] then return say("Healthy", "Archived") end
if archived then return say("Progressing", "Archiving") end
if blocker then return say("Degraded", why(blocker, blockers)) end
if on["Executing"] then return say("Healthy", "Executing: " .. counts(runs) .. " (see the Migration)") end
if on["Succeeded"] then return say("Healthy", "Succeeded: " .. counts(runs)) end
if on["Failed"] then return say("Healthy", "Last run failed: " .. counts(runs) .. "; a new start.attempt retries the VMs that did not succeed") end
if on["Canceled"] then return say("Healthy", "Last run canceled: " .. counts(runs) .. "; a new start.attempt runs the rest") end
if on["Ready"] then return say("Healthy", "Ready") end
return say("Progressing", "Waiting for plan validation")
