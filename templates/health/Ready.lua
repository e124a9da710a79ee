-- NetworkMap, StorageMap, Hook: Ready, or blocked (a source that is NotFound
-- is only a warning upstream: the map still becomes Ready).
local on, blocker, blockers = conditions(obj)
if stale(obj) then return say("Progressing", "Waiting for the controller to observe the change") end
if blocker then return say("Degraded", why(blocker, blockers)) end
if on["Ready"] then return say("Healthy", "Ready") end
return say("Progressing", "Waiting for validation")
