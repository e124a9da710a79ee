-- Migration: carries one run. Never gates anything (it is the last wave of
-- its plan's unit), so it reports the run exactly: Degraded when VMs failed
-- or the plan blocks it, Suspended when nothing moves until somebody acts.
local on, blocker, blockers = conditions(obj)
local n = tally(obj.status and obj.status.vms)
if on["Succeeded"] then return say("Healthy", "Succeeded: " .. counts(n)) end
if on["Failed"] then return say("Degraded", "Failed: " .. counts(n)) end
if on["Canceled"] then return say("Suspended", "Canceled: " .. counts(n)) end
if blocker then return say("Degraded", "Blocked: " .. why(blocker, blockers)) end
if not on["Running"] then
  if obj.status ~= nil and obj.status.observedGeneration ~= nil then
    return say("Suspended", "Not started: the plan runs one Migration at a time, and a plan that has already " ..
      "Succeeded never starts another")
  end
  return say("Progressing", "Waiting for the migration controller")
end
-- A warm VM copies deltas until its cutover time; without one it never finishes.
local cutover = obj.spec ~= nil and obj.spec.cutover ~= nil
local pinned = {}
if obj.spec ~= nil and obj.spec.vmCutover ~= nil then
  for _, c in ipairs(obj.spec.vmCutover) do pinned[c.id] = true end
end
local waiting, open = 0, 0
if obj.status.vms ~= nil then
  for _, vm in ipairs(obj.status.vms) do
    if vm.completed == nil then
      open = open + 1
      local warm = vm.warm ~= nil or vm.phase == "CopyingPaused"
      if vm.started == nil or (warm and not cutover and not pinned[vm.id]) then waiting = waiting + 1 end
    end
  end
end
if n.warm > 0 and open > 0 and waiting == open then
  return say("Suspended", "Warm precopies running, no cutover set: " .. n.paused .. " between precopies, " ..
    (open - n.paused - n.queued) .. " copying, " .. n.queued .. " queued; set start.cutover to finish")
end
return say("Progressing", "Running: " .. counts(n))
