import ArgumentParser
import HealthCLI

SchoolHealthCommand.main()
