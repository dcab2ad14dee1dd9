// Browser tests of the quota page (being written).
export default function quota() {}
