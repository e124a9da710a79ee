-- Carries the run. Suspended while a warm precopy waits for a cutover nobody set.
local on, _ = conditions(obj)
if on["Succeeded"] then return say("Healthy", "Succeeded") end
if on["Failed"] then return say("Degraded", why(on["Failed"])) end
if on["Canceled"] then return say("Suspended", "Canceled") end
local open, paused, done = 0, 0, 0
if obj.status ~= nil and obj.status.vms ~= nil then
  for _, vm in ipairs(obj.status.vms) do
    if vm.completed ~= nil then done = done + 1 else
      open = open + 1
      if vm.phase == "CopyingPaused" then paused = paused + 1 end
    end
  end
end
local cutover = obj.spec ~= nil and (obj.spec.cutover ~= nil or (obj.spec.vmCutover ~= nil and #obj.spec.vmCutover > 0))
if open > 0 and paused == open and not cutover then
  return say("Suspended", "Warm precopy running; set start.cutover to finish")
end
return say("Progressing", "Running: " .. done .. " done, " .. open .. " in progress")
