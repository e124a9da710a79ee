-- Healthy once Ready (not Succeeded), so the Migration wave can start it.
local on, blocker = conditions(obj)
local archived = obj.spec ~= nil and obj.spec.archived == true
if archived and on["Archived"] then return say("Healthy", "Archived") end
if on["Succeeded"] then return say("Healthy", "Succeeded") end
if stale(obj) then return say("Progressing", "Waiting for the controller to observe the change") end
if on["Failed"] then return say("Degraded", why(on["Failed"])) end
if on["Canceled"] then return say("Suspended", "Canceled") end
if blocker then return say("Degraded", why(blocker)) end
if on["Executing"] then return say("Healthy", "Executing (see the Migration)") end
if on["Ready"] then return say("Healthy", "Ready") end
return say("Progressing", "Waiting for plan validation")
