"""Satisfaction surveys of service recipients (服务对象满意度调查).

Questionnaires (:mod:`surveys.questionnaire`, templates in :mod:`surveys.templates`, Excel
in :mod:`surveys.xlsform`), invitation codes and open links (:mod:`surveys.invitations`),
answers (:mod:`surveys.responses`), their mixing so that nothing stored ties an answer to
its code (:mod:`surveys.mixing`), tabulation (:mod:`surveys.tabulation`) and what the
survey gives the scoring package (:mod:`surveys.scoring_inputs`). The tables are in
:mod:`surveys.models`.

This package knows nothing of the web framework nor of the application: its functions take
a database session and plain values, flush and leave the commit to the caller; messages go
through :mod:`surveys.i18n`, whose translator the application installs. Every statistic
comes from :mod:`scoring`.
"""
