import HealthCLI

await SchoolHealthCommand.runMain()
