{
 "signatures": [
  {
   "keyid": "038a857318db992f",
   "sha256": "5b5911d3025cf776f9cd512aa31d145e731126a16277930baf366204bdf14c0c",
   "sig": "SKYW9Ukbqfrhs4w67IuDFOQpg74unaki9cR/CJdgCRFvyLKHdUGTW8bGbPREGP9U3iAVouNyHM08S/2lujQ8Aw=="
  }
 ]
}
