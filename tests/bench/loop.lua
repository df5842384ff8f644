-- loop.lua: loop.aso in Lua 5.4, for comparison.
local function count(n)
  local i = 0
  local total = 0
  while i < n do
    total = total + 1
    i = i + 1
  end
  return total
end

print(count(10000000))
