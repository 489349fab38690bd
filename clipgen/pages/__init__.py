"""Every page; importing a module registers its pages."""
