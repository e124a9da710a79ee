-- Provider: Healthy when connected and its inventory is loaded.
local on, blocker, blockers = conditions(obj)
if stale(obj) then return say("Progressing", "Waiting for the controller to observe the change") end
for _, t in ipairs({"ConnectionAuthFailed", "ConnectionTestFailed", "InventoryError"}) do
  if on[t] then return say("Degraded", why(on[t])) end
end
if blocker then return say("Degraded", why(blocker, blockers)) end
if on["Ready"] and obj.status.phase == "Ready" then return say("Healthy", "Ready") end
return say("Progressing", "Connecting and loading the inventory")
