package app

// registerUpgradeHandlers installs the software-upgrade handlers. Crucible has
// had no upgrade yet; the first one is registered here together with its
// store loader when it ships.
func (app *App) registerUpgradeHandlers() error { return nil }
