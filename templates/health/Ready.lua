-- NetworkMap, StorageMap, Host, Hook: Ready or blocked.
local on, blocker = conditions(obj)
if stale(obj) then return say("Progressing", "Waiting for the controller to observe the change") end
if blocker then return say("Degraded", why(blocker)) end
if on["Ready"] then return say("Healthy", "Ready") end
return say("Progressing", "Waiting for validation")
