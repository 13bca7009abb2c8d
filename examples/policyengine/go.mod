module example.com/policyengine

go 1.22
