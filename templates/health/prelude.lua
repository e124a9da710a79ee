-- mtvgen: Argo CD health check for forklift.konveyor.io. Without one, Argo CD
-- counts a Forklift object as healthy as soon as it exists, and sync waves
-- would not wait for Providers and Plans to become ready.
local function conditions(o)
  local on, blocker = {}, nil
  if o.status == nil or o.status.conditions == nil then return on, nil end
  for _, c in ipairs(o.status.conditions) do
    if c.status == "True" then
      on[c.type] = c
      if blocker == nil and (c.category == "Critical" or c.category == "Error") then blocker = c end
    end
  end
  return on, blocker
end

local function stale(o)
  local gen = o.metadata and o.metadata.generation
  return gen ~= nil and o.status ~= nil and (o.status.observedGeneration or 0) < gen
end

local function say(status, message) return {status = status, message = message} end
local function why(c) return c.type .. ": " .. (c.message or "") end
