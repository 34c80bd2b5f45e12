"""Active Directory: find and reach domain controllers, read the domain and its gMSAs,
generate credential specs from them and check a whole setup (``gmsa doctor``).

Public parts: :mod:`gmsa.ad.connection` (connect, LdapConnection), :mod:`gmsa.ad.domain`,
:mod:`gmsa.ad.accounts`, :mod:`gmsa.ad.security_descriptor`, :mod:`gmsa.ad.specgen`,
:mod:`gmsa.ad.doctor`; errors in :mod:`gmsa.ad.errors`.
"""
