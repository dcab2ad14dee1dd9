// Browser tests of the oauth page (being written).
export default function oauth() {}
