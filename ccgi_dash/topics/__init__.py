"""What each dashboard topic shows beyond the shared views: one module per page.

Each module's functions take (warehouse, scope, ...) and return frames or figures; pages call
them through ``ccgi_dash.ui.data.view`` so results are cached per scope.
"""
