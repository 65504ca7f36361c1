"""RadiAI core: chest radiographs read, analysed and reported, with no Qt.

The data go one way through its packages: ``reading`` (file → XrayImage), ``analysis``
(XrayImage → Analysis, through the model set), ``results`` (history, PDF, PNG, CSV); ``training``
makes the models and ``cli`` is the `radiai` command. ``errors`` (the RadiAIError family),
``resources``, ``i18n`` and ``limits`` are shared by all of them.
"""

__all__ = ["analysis", "cli", "errors", "i18n", "limits", "reading", "resources", "results",
           "training"]
